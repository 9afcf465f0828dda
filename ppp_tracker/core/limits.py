"""The limits of what people type, each defined once.

A form (WTForms), an API schema (marshmallow), a service's own check (imports and workers call
services directly) and, where the column has a length, the model all name the same constant
here, so a limit changes in one place. Cross-field rules (a date after another, a sum within a
contract's total) live in the services, not here.
"""

#: Names, positions, e-mail addresses, labels: the `String(255)` columns.
NAME = 255
#: Numbers, codes, identifiers and phone numbers: the `String(64)` columns.
CODE = 64
#: A region's code ("KZ-35"), as a filter names it: the `String(8)` column of regions.
REGION = 8
#: One line of text: titles, addresses, a short note on an action.
LINE = 500
#: A paragraph: notes, a letter's subject, a status note.
NOTE = 5_000
#: Free text: descriptions, summaries, the facts of a claim.
TEXT = 20_000
#: Days a deadline may lie before or after the date it is counted from (ten years).
OFFSET_DAYS = 3_650
#: Rows one API page may hold.
PER_PAGE = 500
#: People at a site or places in an institution.
HEADCOUNT = 100_000
#: A reason given for a change: why a due date moves.
REASON = 2_000
#: A clause's number as the contract writes it (7.2, 6.2.1): the `String(32)` column.
CLAUSE_NO = 32
#: Characters of a search query that are searched.
SEARCH = 200
#: A password: room for a passphrase, not for a megabyte to hash.
PASSWORD = 200
#: Days a contract may give to answer a claim (a year).
RESPONSE_DAYS = 365
#: Working days of grace before a late obligation is charged.
GRACE_DAYS = 60
#: Years a project (a concession, a lease) may run.
TERM_YEARS = 99
#: Days ahead the API's list of deadlines may look (ten years and ten days).
LOOKAHEAD_DAYS = 3_660
#: The largest id a record can have (the columns are INTEGER): an id typed in a path, a query or
#: a JSON body above it names no record (a 404 or a field error), never an overflow.
MAX_ID = 2**31 - 1
