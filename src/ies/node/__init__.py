"""A node: a role server (FastAPI under uvicorn) built from a TOML config."""

from ies.node.config import NodeConfig, init_node, load_config

__all__ = ["NodeConfig", "init_node", "load_config"]
