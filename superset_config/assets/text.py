"""Words shared by the dashboards."""

MARKERS = (
    "**Viewing as** shows whose figures these are. A commissioner sees its own contracts with "
    "exact figures. A board sees every contract its members hold, with counts from 1 to 4 shown "
    "as **[c]** (and any figure that would reveal one) so that no survivor can be identified. "
    "**[x]** means not available, **[z]** not applicable. The figures are illustrative demo data."
)
