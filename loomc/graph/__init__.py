"""The mapper's graph model: ADG (hardware) and DFG (software) graphs.

See :mod:`loomc.graph.model` for the records, :mod:`loomc.graph.flatten` for the
ADG flattening pass, :mod:`loomc.graph.adg` and :mod:`loomc.graph.dfg` for the
builders and :mod:`loomc.graph.load` for building graphs straight from files.
"""
