"""The `ies` command line. Each module here (other than `main` and `_*`) adds its commands through a
`register(app)` function, so building blocks extend the CLI without editing a shared file."""
