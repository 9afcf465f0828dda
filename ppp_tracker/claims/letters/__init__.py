"""Claim letters: what a letter says (plain facts), the admins' letter texts rendered in a
sandboxed Jinja environment, and the DOCX (docxtpl) and PDF (WeasyPrint) that come out.

The text of a letter is a Jinja template per language, edited by admins in the app (defaults in
`templates/letters/claim.<lang>.txt`, `texts`). It is made of named blocks; each non-empty line
of a block becomes a paragraph. The layout around the blocks — letterhead, addressee on the
right, the penalty table between `body` and `demand`, the signature — is the trusted frame
(`rendering`): `templates/letters/claim.docx` for Word and `templates/letters/claim.html` for the
PDF. The sandbox (`sandbox`) only ever produces text; the frames escape it (docxtpl
`autoescape=True`, Jinja HTML autoescape), so neither a template nor a contractor's name can
inject markup.

- `style`: the legal style of dates, amounts and days in Russian and Kazakh;
- `sandbox`: the environment a text runs in, its limits, and rendering a text's blocks;
- `texts`: the default texts and the check of an admin's text;
- `samples`: the sample letters the check and the editor's preview use;
- `language`: one language of the facts (and where a Kazakh letter quotes Russian);
- `frozen`: the facts frozen as JSON when a claim is sent;
- `rendering`: a text applied to the facts, in its frame: the table, the DOCX and the PDF.
"""
