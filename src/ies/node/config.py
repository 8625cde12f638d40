"""A node's configuration: one TOML file written by `ies node init`, overridable by IES_* variables.

Relative paths in the file (key file, database, token) are relative to the file's own folder, so a node
folder can be moved or copied whole.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import BaseModel, Field, ValidationError, field_validator

from ies.errors import UsageError
from ies.identity.keys import NodeKeys, load_node_keys, save_node_keys
from ies.registry.records import Role
from ies.store import sqlite_url_for

__all__ = ["NodeConfig", "init_node", "load_config"]

DEFAULT_NETWORK_ID = "indiaenergystack.in/sandbox-ies-network"
DEFAULT_DOMAIN = "beckn.one:deg:energy"


class NodeConfig(BaseModel):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    roles: list[Role] = Field(min_length=1)
    subscriber_id: str
    host: str = "127.0.0.1"
    port: int = Field(ge=1, le=65535)
    public_url: str
    database_url: str
    key_file: str = "keys.json"
    admin_token_file: str = "admin.token"
    registry_url: str | None = None
    cds_url: str | None = None
    network_id: str = DEFAULT_NETWORK_ID
    domains: list[str] = Field(default_factory=lambda: [DEFAULT_DOMAIN])
    catalog_file: str | None = None
    skew_s: int = 5
    registry_cache_ttl_s: float = 30.0
    rotation_grace_s: int = 86400
    auto_approve: bool = False
    log_bodies: bool = True
    sth_interval_s: float = Field(default=60.0, gt=0, description="how often to sign the audit tree head")
    usecases: list[str] = Field(default_factory=list, description="use-case packages this node runs")
    settings: dict[str, Any] = Field(default_factory=dict, description="free-form settings per use case")
    home: Path = Field(default=Path("."), exclude=True)

    @field_validator("roles", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [value]
        return [v.upper() if isinstance(v, str) else v for v in value]

    @property
    def beckn_url(self) -> str:
        """The subscriber URL registered in the directory; actions are POSTed to {beckn_url}/{action}."""
        return f"{self.public_url.rstrip('/')}/beckn"

    def path(self, value: str) -> Path:
        p = Path(value)
        return p if p.is_absolute() else self.home / p

    def db_url(self) -> str:
        url = os.environ.get("IES_DATABASE_URL") or self.database_url
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////") and url != "sqlite:///:memory:":
            return sqlite_url_for(self.path(url[len("sqlite:///") :]))
        return url

    def keys(self) -> NodeKeys:
        return load_node_keys(self.path(self.key_file))

    def admin_token(self) -> str:
        try:
            return self.path(self.admin_token_file).read_text("utf-8").strip()
        except OSError as exc:
            raise UsageError(f"cannot read the admin token file: {exc}") from exc

    def has_role(self, role: Role) -> bool:
        return role in self.roles


def load_config(path: str | Path) -> NodeConfig:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise UsageError(f"node config {path} does not exist (create one with `ies node init`)") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"node config {path} is not readable TOML: {exc}") from None
    node = dict(data.get("node", {}))
    for key, value in os.environ.items():
        if key.startswith("IES_NODE_"):
            node[key[len("IES_NODE_") :].lower()] = value
    try:
        cfg = NodeConfig.model_validate(node)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise UsageError(f"node config {path}: {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    cfg.home = path.parent.resolve()
    return cfg


def _private_write(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)


def init_node(
    directory: Path,
    *,
    name: str,
    roles: list[str],
    port: int,
    host: str = "127.0.0.1",
    subscriber_id: str | None = None,
    registry_url: str | None = None,
    cds_url: str | None = None,
    network_id: str = DEFAULT_NETWORK_ID,
    database_url: str | None = None,
    auto_approve: bool = False,
    overwrite: bool = False,
    usecases: list[str] | None = None,
    settings: dict[str, Any] | None = None,
    catalog_file: str | None = None,
) -> Path:
    """Create a node folder: config.toml, keys.json (0600) and admin.token (0600)."""
    directory.mkdir(parents=True, exist_ok=True)
    cfg_path = directory / "config.toml"
    if cfg_path.exists() and not overwrite:
        raise UsageError(f"{cfg_path} exists; pass --force to overwrite")
    node: dict[str, Any] = {
        "name": name,
        "roles": [r.upper() for r in roles],
        "subscriber_id": subscriber_id or f"{name}.ies.local",
        "host": host,
        "port": port,
        "public_url": f"http://{host}:{port}",
        "database_url": database_url or "sqlite:///node.db",
        "key_file": "keys.json",
        "admin_token_file": "admin.token",
        "network_id": network_id,
        "auto_approve": auto_approve,
    }
    if catalog_file:
        node["catalog_file"] = str(Path(catalog_file).resolve())
    if usecases:
        node["usecases"] = list(usecases)
    if settings:
        node["settings"] = settings
    if registry_url:
        node["registry_url"] = registry_url
    if cds_url:
        node["cds_url"] = cds_url
    try:
        NodeConfig.model_validate(node)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise UsageError(f"{'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    save_node_keys(directory / "keys.json", NodeKeys.generate(key_id=f"{name}-k1"))
    _private_write(directory / "admin.token", secrets.token_urlsafe(32) + "\n")
    cfg_path.write_text(tomli_w.dumps({"node": node}), "utf-8")
    return cfg_path
