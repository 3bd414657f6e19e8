"""Words shared by the dashboards."""

from etl.transform.labels import RAG_ORDER

MARKERS = (
    "**Viewing as** shows whose figures these are. A commissioner sees its own contracts with "
    "exact figures. A board sees every contract its members hold, with counts from 1 to 4 shown "
    "as **[c]** (and any figure that would reveal one) so that no survivor can be identified. "
    "**[x]** means not available, **[z]** not applicable. The figures are illustrative demo data."
)


def rag_legend() -> str:
    """The RAG key in the app's order: Red, Amber, Green."""
    return "**RAG ratings:** " + "; ".join(f"**{rag.text}**" for rag in RAG_ORDER) + "."
