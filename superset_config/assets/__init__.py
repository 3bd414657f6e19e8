"""The dashboards, as code. `flask superset provision` imports them.

To change a dashboard, edit its module and provision again: datasets and
charts with the same key are overwritten. A chart's uuid derives from its
key, so keep keys when you change titles. See superset_config/README.md.
"""

from .board_performance import DASHBOARD as BOARD_PERFORMANCE
from .comparison import DASHBOARD as COMPARISON
from .funding import DASHBOARD as FUNDING
from .outcomes import DASHBOARD as OUTCOMES
from .provision import DASHBOARD as PROVISION
from .renewals import DASHBOARD as RENEWALS

DASHBOARDS = (BOARD_PERFORMANCE, RENEWALS, FUNDING, OUTCOMES, PROVISION, COMPARISON)
