"""The public transparency log of the batch hash chains: an RFC 9162 Merkle tree of chain heads, signed checkpoints."""
