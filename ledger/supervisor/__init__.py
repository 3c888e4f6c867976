"""The supervisor's report: figures gathered at a signed checkpoint, the evidence behind each row, a page
rendered from templates, and a signed directory a supervisor checks offline (`ledger report verify`)."""
