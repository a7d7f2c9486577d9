"""Clinical mappings: root -> dermatome, key sensory point, key muscle, reflex; findings from compression."""
