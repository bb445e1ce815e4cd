"""The families' names, summaries and examples, so `examsolve list` imports no family module.

Generated from the registry; tests/test_startup.py checks it. After changing a family's @family(...):
    python -c 'from examsolve.registry import write_catalog; write_catalog()'
"""

CATALOG = {
    'attention': (
        'scaled dot-product attention: scores QKᵀ/√d, row softmax kept exact, weights and output, optional causal, padding (key_mask) or 0/1 mask (masked weights exactly 0); multi-head parameter counts',
        ('attention.yaml', 'attention_padding_mask.yaml')),
    'batchnorm': (
        'batch norm: mean, biased variance, normalized x̂, y = γ·x̂ + β, Jacobians w.r.t. γ, β, x and gradients of a loss on y',
        ('bn_jacobian.yaml', 'bn_l2_grad.yaml', 'bn_jacobian_gamma.yaml', 'bn_jacobian_beta.yaml')),
    'conv': (
        "numeric convolution (cross-correlation; flip for true convolution) with channels, stride, padding, dilation, and max/avg pooling; gradients w.r.t. kernel, bias and input, updates, unknown kernel entries; max pooling's padding as −∞ (PyTorch) or 0",
        ('conv_maxpool_grad.yaml', 'conv2d_bce.yaml', 'conv_unknown_kernel.yaml', 'maxpool_zero_padding.yaml')),
    'graph': (
        'forward values, gradients, Jacobians, Hessians, critical points, gradient-descent updates and equations over named equations',
        ('sin_net.yaml', 'sigmoid_graph.yaml', 'critical_points.yaml', 'skip_connection.yaml', 'margin_loss.yaml', 'lrelu.yaml', 'logreg_symbolic.yaml', 'softmax_ce_symbolic.yaml', 'hinge_symbolic.yaml', 'l1_quadratic_min.yaml', 'cubic_unbounded.yaml', 'two_vector_layers.yaml', 'reparam_exponential.yaml', 'training_bookkeeping.yaml', 'triplet_loss_cases.yaml', 'triplet_loss_active.yaml', 'skip_relu_active.yaml')),
    'init': (
        "weight initialisation: Xavier/Glorot (fan_avg, and the fan_in-only variant), He/Kaiming, LeCun, PyTorch's default, each with the gain of an activation (calculate_gain: tanh 5/3, relu √2, leaky relu, selu); fan_in and fan_out from a weight shape in PyTorch's or Keras' order (conv kernels too); variance, standard deviation of the normal, bound of the uniform; the bias",
        ('xavier.yaml', 'xavier_tanh.yaml')),
    'loss': (
        "softmax, cross-entropy (with label smoothing) and BCE with their gradients (ŷ − y) in any log base (several at once), BCE on given outputs with 0·log 0 = 0 (or PyTorch's clamp) summed or averaged, entropy, KL and JS divergences (infinite KL explained), KL of two Gaussians or exponentials",
        ('softmax_ce.yaml', 'js_bits.yaml', 'kl_gaussians.yaml', 'bce_zero_label.yaml', 'ce_bits.yaml', 'ce_label_smoothing.yaml')),
    'lr': (
        'learning-rate analysis of gradient descent on a quadratic: factors ρᵢ(α) = 1 − αλᵢ named by parameter (by eigenvector when H is not diagonal), the sets of α that converge, oscillate and diverge, the boundary ρ_max = ±1 and the sign-alternating range, the best α* and its rate',
        ('sgd_convergence_2d.yaml', 'sgd_quadratic.yaml', 'abs_loss.yaml')),
    'mlp': (
        'a small MLP with given weights: per-neuron forward values, a loss (MSE with or without ½, SSE, BCE, cross-entropy, an L2 penalty), backward per weight, SGD updates',
        ('mlp_2_2_1.yaml', 'mlp_rule_momentum.yaml')),
    'network': (
        "layer arithmetic: output shapes, parameters (with and without bias), memory per dtype, operations under a named counting convention, stamps, receptive fields (a dense unit sees the whole input), layers and parameters per layer type (batch norm's trainable and non-trainable), depth, width and units, the difference to a compared stack, unknown sizes",
        ('conv_shape.yaml', 'conv_flops_depthwise.yaml', 'conv3d_stamps.yaml', 'mlp_params.yaml', 'receptive_field.yaml', 'lstm_hidden_size.yaml', 'vgg16.yaml', 'resnet18.yaml', 'lenet5.yaml', 'vgg16_bn.yaml', 'transformer_encoder.yaml')),
    'normalization': (
        'batch, layer, instance and group norm: which axes each averages over, the means (and variances, normalized tensors) and the shapes of the statistics',
        ('norm_means.yaml', 'group_norm.yaml')),
    'optimizer': (
        'optimizer steps: gradient descent, momentum (three forms), Nesterov, AdaGrad, RMSProp, Adam/AdamW (bias correction named), Rprop (Rprop+, Rprop−, iRprop+, iRprop− named); numeric or symbolic, each update with its numbers substituted, a table of iterates',
        ('momentum_symbolic.yaml', 'adam_two_steps.yaml', 'rmsprop_steps.yaml', 'adagrad_steps.yaml', 'nesterov_steps.yaml', 'rprop_steps.yaml', 'rprop_plus.yaml')),
    'perceptron': (
        'the perceptron rule epoch by epoch as a table (mistake or delta rule, ±1 or 0/1 outputs, a threshold with > or ≥, a bias or a constant input), and networks of threshold units evaluated on a truth table with units, depth and width, or built for a truth table or formula (DNF, parity); weights for a truth table from its inequalities or from given values, or the proof that none exist',
        ('perceptron_and.yaml', 'xor_network.yaml', 'perceptron_weights.yaml', 'perceptron_xor.yaml', 'perceptron_delta_threshold.yaml', 'xor3_threshold_network.yaml')),
    'policy': (
        'policy gradients for discrete policies in a scalar, vector or matrix θ: log-policy gradients, REINFORCE (optionally with a baseline) and A2C (A = Q − V with V the policy-weighted value) estimates, the ascent step',
        ('reinforce.yaml', 'a2c.yaml', 'reinforce_baseline.yaml')),
    'recursion': (
        'derivations over a general k: receptive field and jump of a stack (recursion and closed form), momentum without the velocity, the norm bound of a product of k Jacobians',
        ('receptive_field_recursion.yaml', 'momentum_elimination.yaml', 'jacobian_product.yaml')),
    'rnn': (
        'recurrent networks unrolled in time: a cell equation, LSTM or GRU; hidden states, outputs and losses per step, backpropagation through time, parameter counts',
        ('rnn_linear_two_losses.yaml', 'rnn_product_cell.yaml', 'rnn_relu_dead_unit.yaml', 'rnn_step_back.yaml', 'rnn_vector_tanh.yaml', 'lstm_forward.yaml', 'gru_forward.yaml', 'lstm_goodfellow.yaml')),
}
