#include "greet.h"
int main(void) { greet("reehub"); return 0; }
