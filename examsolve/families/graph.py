"""graph: any computational graph of named equations (the generic family)."""
from examsolve.registry import family


@family("graph", summary="forward values, gradients, Jacobians, Hessians, critical points, "
        "gradient-descent updates and equations over named equations",
        examples=("sin_net.yaml", "sigmoid_graph.yaml", "critical_points.yaml",
                  "skip_connection.yaml", "margin_loss.yaml", "lrelu.yaml", "logreg_symbolic.yaml",
                  "softmax_ce_symbolic.yaml", "hinge_symbolic.yaml", "l1_quadratic_min.yaml",
                  "cubic_unbounded.yaml", "two_vector_layers.yaml", "reparam_exponential.yaml",
                  "training_bookkeeping.yaml",
                  "triplet_loss_cases.yaml", "triplet_loss_active.yaml", "skip_relu_active.yaml"))
class GraphFamily:
    """Builds the graph from given:, symbols: and equations:, then runs the asks."""

    @staticmethod
    def model():
        from examsolve.spec import BaseSpec
        return BaseSpec

    @staticmethod
    def solve(spec):
        from examsolve.asks import Solver
        from examsolve.spec_graph import build_graph

        solver = Solver(spec, build_graph(spec))
        solver.run(spec.model.ask)
        return solver.solution()
