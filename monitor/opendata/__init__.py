"""Open data: the register published as OCDS releases and 360Giving grants.

`facts` turns stored records into plain, public-only facts; `ocds` and
`giving` build the documents from them (pure functions); `ready` says in
plain English what stops a contract being published; `validate` checks a
document against the vendored schemas, offline; `service` ties them together
for the web pages, the API and the `flask export` commands.
"""
