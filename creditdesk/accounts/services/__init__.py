"""The accounts domain's writes, one module per concern: auth, team, settings, mail. Import the concern module."""
