"""``python -m frankenws_cli``."""

from . import main

main()
