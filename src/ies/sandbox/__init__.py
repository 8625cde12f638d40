"""The sandbox: a whole IES network (registry, CDS, BAPs, BPPs, …) as separate local processes."""

from ies.sandbox.network import NetworkSpec, NetworkState, NodeSpec, default_spec, load_spec

__all__ = ["NetworkSpec", "NetworkState", "NodeSpec", "default_spec", "load_spec"]
