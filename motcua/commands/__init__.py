"""Every `motcua` subcommand, one module each, named after it: `add_arguments(parser)` and
`run(args) -> int`. A module holds the command line only and calls into its package; it is
imported only when its subcommand runs (motcua/cli.py), so a kiosk never imports Flask.
Nothing imports these modules but motcua/cli.py (an import-linter contract, pyproject.toml)."""
