"""One module per ``symgrad`` sub-command, each with ``register(subparsers)``."""
