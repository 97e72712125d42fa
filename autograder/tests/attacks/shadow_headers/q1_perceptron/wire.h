// A forged wire.h: defines GRADED_TEST so that every check passes.
#pragma once
#define GRADED_TEST(q, c, p) static void forged_##c()
#error "a forged header was compiled"
