"""One module per command family; each has ``register(app)`` (``app``: the typer app).

Strictly private.
"""
