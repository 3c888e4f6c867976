"""The HTTP sandbox service (DESIGN.md section 8): `ledger serve`.

`app.create_app` builds the ASGI application over one sandbox: commands go
through one writer thread that coalesces concurrent requests into shared
transactions (`commit.GroupCommitter`), reads go to the views in read-only
transactions, every request is authenticated with a bearer key
(`keys`) and answered, when it fails, with an RFC 9457 problem (`problems`).
Nothing here is imported by the command line's other commands.
"""
