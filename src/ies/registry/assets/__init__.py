"""Asset and entity registry: DISCOMs, substations, feeders, transformers, service points, meters,
consumers and DERs, with stable DIDs, validated attributes, lifecycle status, the network hierarchy and
a versioned history readable "as of" any time.

Public API (the HTTP router lives in `ies.registry.assets.http`, the CLI in `ies.cli.assets`):

    create_<thing>(session, id, parent=…, attributes=…, actor=…) -> DID      one entity
    create_entities(session, [NewEntity…], actor=…) -> [DID]                  a checked batch
    update_entity(session, DID, attributes=… | status=… | parent=…, actor=…)  a new version
    get_entity / children / descendants / ancestors (…, as_of=T)            reads, now or as of T
    history(session, DID)                                                     every version with diffs
    import_csv(session, text, actor=…) -> ImportReport                        bulk, per-row errors
    export_csv(session, discom=…, as_of=T) -> str                             the same format back out

Functions take a SQLAlchemy Session and leave the commit to the caller.
"""

from ies.registry.assets.changes import UNCHANGED, create_entity, update_entity, validate_attributes
from ies.registry.assets.create import (
    NewEntity,
    create_battery,
    create_consumer,
    create_discom,
    create_entities,
    create_ev_charger,
    create_feeder,
    create_meter,
    create_service_point,
    create_solar,
    create_substation,
    create_transformer,
)
from ies.registry.assets.csv_export import export_csv
from ies.registry.assets.csv_import import (
    ImportReport,
    RowError,
    import_csv,
    import_csv_file,
    sample_csv_path,
)
from ies.registry.assets.queries import (
    ancestors,
    children,
    descendants,
    find_entities,
    get_entity,
    history,
    parse_time,
)
from ies.registry.assets.records import Entity, TreeNode, Version
from ies.registry.assets.structure import STRUCTURE, EntityClass, Status, describe_structure

__all__ = [
    "STRUCTURE",
    "UNCHANGED",
    "Entity",
    "EntityClass",
    "ImportReport",
    "NewEntity",
    "RowError",
    "Status",
    "TreeNode",
    "Version",
    "ancestors",
    "children",
    "create_battery",
    "create_consumer",
    "create_discom",
    "create_entities",
    "create_entity",
    "create_ev_charger",
    "create_feeder",
    "create_meter",
    "create_service_point",
    "create_solar",
    "create_substation",
    "create_transformer",
    "descendants",
    "describe_structure",
    "export_csv",
    "find_entities",
    "get_entity",
    "history",
    "import_csv",
    "import_csv_file",
    "parse_time",
    "sample_csv_path",
    "update_entity",
    "validate_attributes",
]
