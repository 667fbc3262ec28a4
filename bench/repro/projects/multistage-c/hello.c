#include <stdio.h>
int main(void){puts("hello from stage one");return 0;}
