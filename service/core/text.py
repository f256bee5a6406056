"""Text a person types: a name or a reason must show at least one visible character.

`min_length=1` alone lets a lone TAB or space through, which the services trim to nothing and the
database then refuses (a 500, not a 4xx). `pattern=VISIBLE` in a `Meta` makes msgspec and the OpenAPI
schema refuse such text up front, with a 400 that says why.
"""

VISIBLE = r"\S"
"""A regular expression (searched, not anchored) that any text with a visible character matches."""
