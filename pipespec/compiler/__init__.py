"""Compiler stages after loading: the graph, its checks, lowering to the IR."""
