"""Registry pages, one module per object; `common` holds the blueprint and what they share."""
