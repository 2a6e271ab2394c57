"""The registry bulk sources the importers read, in the order a load runs them.

Companies come before the people and crosswalks that refer to them: ``ch_basic`` before
``ch_psc``, ``no_enheter`` before ``no_roller``. Free of Django, so the sandbox's world generator
(which writes the order into world.json) can import it before Django is set up.
"""

IMPORT_ORDER = (
    "ch_basic",
    "no_enheter",
    "se_bolagsverket",
    "se_scb",
    "ch_psc",
    "no_roller",
    "gleif",
)
