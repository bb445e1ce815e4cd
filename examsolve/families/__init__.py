"""One module per problem family, each registered with @family (see examsolve.registry)."""
