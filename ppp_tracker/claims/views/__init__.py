"""Legal staff's pages: the queue of claims, a claim with its letter, edit, approve, send,
reply, escalate; lawsuits; the penalty and claim history on the contract page; the admins'
letter texts, outgoing numbers and departments. Thin: validate, call a service, commit, respond.

One blueprint, `claims` (`common.bp`), to which each module adds its pages: `claim_queue`,
`claim_page`, `claim_form`, `claim_actions`, `case_pages` (lawsuits) and `admin`; `panels` are
the contract page's. `ppp_tracker.claims.init_app` imports them all, then registers the
blueprint.
"""
