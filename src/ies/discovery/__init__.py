"""The Catalogue Discovery Service (CDS): BPPs publish catalogues to it, BAPs discover across them.

`discover` carries an RFC 9535 JSONPath filter (`intent.filters = {type: "jsonpath", expression}`) and/or a
`textSearch`; a catalogue is returned when the expression selects at least one node of
`{"catalogs": [that catalogue]}` and every word of the text search occurs in it.
"""

from ies.discovery.catalogs import CatalogStore, search_catalogs

__all__ = ["CatalogStore", "search_catalogs"]
