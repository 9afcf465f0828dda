"""The registry's rules, one module per object: parties (and institutions), projects (and sites),
contracts, milestones, documents; `checks` holds the checks they share.

Every function takes the acting user and plain, already-parsed values (dates, Decimals, enum
strings) under the names the API uses; it checks links, scope and consistency, collects every
error before raising `Invalid`, flushes and never commits.
"""
