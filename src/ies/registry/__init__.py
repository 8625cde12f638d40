"""Registry: the subscriber directory (DeDi-style participant records with keys, lookup, subscription
with proof of key possession, operator lifecycle) and, in `ies.registry.assets`, the asset/entity registry."""
