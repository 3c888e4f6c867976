"""The pure model of the crypto bank's ledger: values, commands, events, rules.

Import what you need from its modules (`domain.commands`, `domain.decide`,
`domain.state`, ...): this package imports none of them itself, so that a
reader that needs only `domain.money` does not pay for building every
command and event model.
"""
