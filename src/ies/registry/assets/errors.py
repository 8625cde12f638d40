"""Errors of the asset registry: subclasses of the project tree, each with its own stable code.

NotFoundError (404, exit 1)
└── EntityNotFound              ASSET_NOT_FOUND             no such entity (or not yet, "as of" T)
UsageError (400, exit 2)
├── InvalidAttributes           ASSET_INVALID_ATTRIBUTES    attributes fail the class model
├── ParentNotFound              ASSET_PARENT_NOT_FOUND      the named parent does not exist
└── WrongParent                 ASSET_WRONG_PARENT          parent of the wrong class or DISCOM
ConflictError (409, exit 1)
├── EntityExists                ASSET_EXISTS                create of an id that is taken
├── TransitionNotAllowed        ASSET_TRANSITION_NOT_ALLOWED  lifecycle forbids the status change
├── HierarchyConflict           ASSET_HIERARCHY_CONFLICT    live entity without a live parent, or a
│                                                           parent decommissioned under live children
└── VersionMismatch             ASSET_VERSION_MISMATCH      optimistic-concurrency check failed
"""

from __future__ import annotations

from ies.errors import ConflictError, NotFoundError, UnauthorizedAction, UsageError

__all__ = [
    "ConcurrentChange",
    "EntityExists",
    "EntityNotFound",
    "HierarchyConflict",
    "InvalidAttributes",
    "ParentNotFound",
    "TransitionNotAllowed",
    "VersionMismatch",
    "WriteNotAuthorised",
    "WrongParent",
]


class EntityNotFound(NotFoundError):
    code = "ASSET_NOT_FOUND"


class InvalidAttributes(UsageError):
    exit_code = 1
    code = "ASSET_INVALID_ATTRIBUTES"


class ParentNotFound(UsageError):
    exit_code = 1
    code = "ASSET_PARENT_NOT_FOUND"


class WrongParent(UsageError):
    exit_code = 1
    code = "ASSET_WRONG_PARENT"


class EntityExists(ConflictError):
    code = "ASSET_EXISTS"


class TransitionNotAllowed(ConflictError):
    code = "ASSET_TRANSITION_NOT_ALLOWED"


class HierarchyConflict(ConflictError):
    code = "ASSET_HIERARCHY_CONFLICT"


class VersionMismatch(ConflictError):
    code = "ASSET_VERSION_MISMATCH"


class ConcurrentChange(ConflictError):
    code = "ASSET_CONCURRENT_CHANGE"


class WriteNotAuthorised(UnauthorizedAction):
    code = "ASSET_WRITE_NOT_AUTHORISED"
