// grade_q1 of the mini project: deliberately does not compile.
int main() { return missing_function(); }
