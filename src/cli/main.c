#include <stdio.h>
int main(void) { puts("devflow " DF_VERSION); return 0; }
