// Everything Ember offers, in one include: #include <ember/ember.h>
#pragma once

#include "ember/autograd.h"
#include "ember/backend.h"
#include "ember/creation.h"
#include "ember/device.h"
#include "ember/error.h"
#include "ember/ops.h"
#include "ember/random.h"
#include "ember/shape.h"
#include "ember/storage.h"
#include "ember/tensor.h"

#if __has_include("ember/nn/module.h")
#include "ember/data/dataloader.h"
#include "ember/data/dataset.h"
#include "ember/nn/activation.h"
#include "ember/nn/dropout.h"
#include "ember/nn/embedding.h"
#include "ember/nn/functional.h"
#include "ember/nn/layer_norm.h"
#include "ember/nn/linear.h"
#include "ember/nn/module.h"
#include "ember/nn/parameter.h"
#include "ember/nn/sequential.h"
#include "ember/optim/adam.h"
#include "ember/optim/optimizer.h"
#include "ember/optim/sgd.h"
#endif
