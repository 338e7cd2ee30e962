"""The `shop` command line."""

import typer

app = typer.Typer(help="The shop service: users, a catalog with stock, and orders.", no_args_is_help=True)


@app.callback()
def main() -> None:
    """Manage and serve the shop service."""
