"""`python -m gan_style.cli`: the `gan-style` command."""

from gan_style.cli import console

console()
