"""The signed audit trail: Merkle log, checkpoints, bundles and their offline verifier."""
