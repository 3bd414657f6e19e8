"""The contract register: contracts, parties, funding lines per financial year, extension options, amendments, milestones, renewal dates and their pages and exports."""
