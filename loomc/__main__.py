"""``python -m loomc`` is the ``loomc`` command."""

from loomc.cli import main

main()
