"""The ledger's rules, one module per area: its deciders and checks together.

`base` holds what every area needs (stamps, event heads, postings, look-ups
that refuse what does not exist); each area module exposes `DECIDERS`, the
commands it decides. `domain.decide` only dispatches to them.

The areas import one another in one direction only::

    base <- onboarding, compliance <- funding <- issuance, trading, settlements <- corrections
"""
