"""One module per report page: each derives its records, renders them, and
returns its files."""

