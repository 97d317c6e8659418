/* Jump tables: a bytecode interpreter whose dispatch is one big switch, and a dense switch of calls. */
#include "../runtime/rt.h"

enum op {
  OP_HALT,
  OP_PUSH, /* next byte: small constant */
  OP_PUSH16, /* next two bytes, little-endian */
  OP_DUP,
  OP_DROP,
  OP_SWAP,
  OP_OVER,
  OP_ADD,
  OP_SUB,
  OP_MUL,
  OP_DIV,
  OP_MOD,
  OP_AND,
  OP_OR,
  OP_XOR,
  OP_SHL,
  OP_SHR,
  OP_NEG,
  OP_LT,
  OP_EQ,
  OP_JMP, /* next byte: signed offset */
  OP_JZ,
  OP_JNZ,
  OP_LOAD, /* next byte: variable */
  OP_STORE,
  OP_PRINT,
  OP_INC,
  OP_DEC,
  OP_ROT,
  OP_NOP,
  OP_COUNT
};

static long vars[8];
static unsigned long executed[OP_COUNT];

static long run(const unsigned char *code) {
  long stack[32];
  int sp = 0;
  unsigned pc = 0;
  for (;;) {
    unsigned char op = code[pc++];
    executed[op < OP_COUNT ? op : OP_NOP]++;
    long a, b;
    switch (op) {
    case OP_HALT:
      return sp ? stack[sp - 1] : 0;
    case OP_PUSH:
      stack[sp++] = code[pc++];
      break;
    case OP_PUSH16:
      stack[sp++] = code[pc] | (code[pc + 1] << 8);
      pc += 2;
      break;
    case OP_DUP:
      stack[sp] = stack[sp - 1];
      sp++;
      break;
    case OP_DROP:
      sp--;
      break;
    case OP_SWAP:
      a = stack[sp - 1];
      stack[sp - 1] = stack[sp - 2];
      stack[sp - 2] = a;
      break;
    case OP_OVER:
      stack[sp] = stack[sp - 2];
      sp++;
      break;
    case OP_ADD:
      b = stack[--sp];
      stack[sp - 1] += b;
      break;
    case OP_SUB:
      b = stack[--sp];
      stack[sp - 1] -= b;
      break;
    case OP_MUL:
      b = stack[--sp];
      stack[sp - 1] = (long)((unsigned long)stack[sp - 1] * (unsigned long)b);
      break;
    case OP_DIV:
      b = stack[--sp];
      stack[sp - 1] = b ? stack[sp - 1] / b : 0;
      break;
    case OP_MOD:
      b = stack[--sp];
      stack[sp - 1] = b ? stack[sp - 1] % b : 0;
      break;
    case OP_AND:
      b = stack[--sp];
      stack[sp - 1] &= b;
      break;
    case OP_OR:
      b = stack[--sp];
      stack[sp - 1] |= b;
      break;
    case OP_XOR:
      b = stack[--sp];
      stack[sp - 1] ^= b;
      break;
    case OP_SHL:
      b = stack[--sp];
      stack[sp - 1] = (long)((unsigned long)stack[sp - 1] << (b & 63));
      break;
    case OP_SHR:
      b = stack[--sp];
      stack[sp - 1] = (long)((unsigned long)stack[sp - 1] >> (b & 63));
      break;
    case OP_NEG:
      stack[sp - 1] = (long)(0 - (unsigned long)stack[sp - 1]);
      break;
    case OP_LT:
      b = stack[--sp];
      stack[sp - 1] = stack[sp - 1] < b;
      break;
    case OP_EQ:
      b = stack[--sp];
      stack[sp - 1] = stack[sp - 1] == b;
      break;
    case OP_JMP:
      pc += (signed char)code[pc] + 1;
      break;
    case OP_JZ:
      a = stack[--sp];
      pc += a ? 1 : (signed char)code[pc] + 1;
      break;
    case OP_JNZ:
      a = stack[--sp];
      pc += a ? (signed char)code[pc] + 1 : 1;
      break;
    case OP_LOAD:
      stack[sp++] = vars[code[pc++] & 7];
      break;
    case OP_STORE:
      vars[code[pc++] & 7] = stack[--sp];
      break;
    case OP_PRINT:
      rt_printf("vm: %ld\n", stack[--sp]);
      break;
    case OP_INC:
      stack[sp - 1]++;
      break;
    case OP_DEC:
      stack[sp - 1]--;
      break;
    case OP_ROT:
      a = stack[sp - 3];
      stack[sp - 3] = stack[sp - 2];
      stack[sp - 2] = stack[sp - 1];
      stack[sp - 1] = a;
      break;
    case OP_NOP:
      break;
    default:
      rt_printf("vm: bad opcode %u at %u\n", op, pc - 1);
      return -1;
    }
  }
}

/* 20!, wrapping, with every step printed: v0 = n, v1 = acc. */
static const unsigned char factorial[] = {
    OP_PUSH, 1, OP_STORE, 1, OP_PUSH, 1, OP_STORE, 0,
    /* loop (pc 8): */
    OP_LOAD, 1, OP_LOAD, 0, OP_MUL, OP_DUP, OP_PRINT, OP_STORE, 1, OP_LOAD, 0, OP_INC, OP_DUP, OP_STORE, 0,
    OP_PUSH, 21, OP_LT, OP_JNZ, (unsigned char)-20, OP_LOAD, 1, OP_HALT};

/* Fibonacci numbers below 5000, then the sum of squares 1..100 with shifts and xors mixed in. */
static const unsigned char fib[] = {
    OP_PUSH, 0, OP_PUSH, 1,
    /* loop (pc 4): a b */
    OP_OVER, OP_PRINT, OP_SWAP, OP_OVER, OP_ADD, OP_DUP, OP_PUSH16, 0x88, 0x13, OP_LT, OP_JNZ, (unsigned char)-12,
    OP_DROP, OP_DROP, OP_PUSH, 0, OP_STORE, 2, OP_PUSH, 100, OP_STORE, 3,
    /* loop (pc 26): */
    OP_LOAD, 3, OP_DUP, OP_MUL, OP_LOAD, 2, OP_ADD, OP_STORE, 2, OP_LOAD, 3, OP_DEC, OP_DUP, OP_STORE, 3, OP_JNZ,
    (unsigned char)-17, OP_LOAD, 2, OP_DUP, OP_PRINT, OP_PUSH, 3, OP_SHL, OP_PUSH16, 0x34, 0x12, OP_XOR, OP_PUSH,
    7, OP_PUSH, 9, OP_ROT, OP_ROT, OP_MOD, OP_NEG, OP_PUSH, 0xff, OP_AND, OP_PUSH, 5, OP_SUB, OP_PUSH, 3, OP_DIV,
    OP_PUSH, 0x40, OP_OR, OP_ADD, OP_NOP, OP_HALT};

/* A dense switch of calls (no lookup-table shortcut possible): each case calls something else. */
static int shapes(int k, int v) {
  switch (k) {
  case 0: return v + 1;
  case 1: return v * 3;
  case 2: return v - 7;
  case 3: return v ^ 0x55;
  case 4: return v << 2;
  case 5: return v >> 1;
  case 6: return (int)((unsigned)v * 2654435761u >> 7);
  case 7: return v % 13;
  case 8: return -v;
  case 9: return v & 0x3ff;
  case 10: return v | 0x100;
  case 11: return ~v;
  case 12: return v / 5;
  case 13: return v + k * k;
  case 14: return v * v;
  case 15: return v - (v >> 3);
  default: return v;
  }
}

int main(void) {
  rt_printf("factorial result: %ld\n", run(factorial));
  rt_printf("fib result: %ld\n", run(fib));
  int v = 1;
  for (int i = 0; i < 200; i++) v = shapes((i * 7 + v) & 15, v) & 0xfffff;
  rt_printf("shapes: %d\n", v);
  unsigned long total = 0;
  for (int op = 0; op < OP_COUNT; op++) total += executed[op] * (unsigned long)(op + 1);
  rt_printf("executed weighted: %lu halts=%lu\n", total, executed[OP_HALT]);
  rt_exit_group(42);
}
