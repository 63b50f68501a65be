/* main.c - placeholder entry point; replaced by the command table. */
#include <stdio.h>
int main(void)
{
    puts("buildtrail " BT_VERSION);
    return 0;
}
