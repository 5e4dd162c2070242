"""The staff side of consultations: building them, importing their drafts, assigning committees."""
