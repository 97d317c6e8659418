/*
 * Entry point and the system-call primitive of the guest runtime (ELFv2, ppc64le, no libc).
 *
 * At _start the loader (Linux, qemu-ppc64le, or nestsim's harness) has set r1 to the top of the
 * stack and r12 to the entry address, as the ELFv2 ABI requires. nestsim's L1 also passes the vCPU
 * index in r3 and the vCPU count in r4; they are kept in r13 (index in the low word, count in the
 * high word), the one register no code here uses (ELFv2 reserves it for a TLS pointer, and there is
 * no TLS), and private to each vCPU. guests/include/nestsim.h reads them and treats a count of 0
 * (or garbage, under another loader) as one vCPU.
 */
	.abiversion 2
	.section ".text"

	.globl	_start
	.type	_start, @function
	.p2align 4
_start:
	/* TOC pointer from r12 = &_start: the same sequence gcc emits at a global entry point. */
	addis	2, 12, .TOC.-_start@ha
	addi	2, 2, .TOC.-_start@l
	rldimi	3, 4, 32, 0
	mr	13, 3
	/* 16-byte aligned stack and a minimal ELFv2 frame with a null back chain, so that main's
	   prologue may store LR at 16(r1) and a debugger knows where the stack ends. */
	clrrdi	1, 1, 4
	li	0, 0
	stdu	0, -32(1)
	bl	rt_main
	nop
	/* rt_main returned the exit status in r3: leave through exit_group (never returns). */
	li	0, 234
	sc
	trap
	.size	_start, .-_start

/*
 * long __rt_syscall(long nr, long a0, long a1, long a2, long a3, long a4, long a5)
 * Linux convention: r0 = number, r3..r8 = arguments, `sc`; the result is in r3, and CR0[SO]
 * set means r3 is a positive errno, which we return negated (the kernel's internal form).
 */
	.globl	__rt_syscall
	.type	__rt_syscall, @function
	.p2align 4
__rt_syscall:
	mr	0, 3
	mr	3, 4
	mr	4, 5
	mr	5, 6
	mr	6, 7
	mr	7, 8
	mr	8, 9
	sc
	bnslr
	neg	3, 3
	blr
	.size	__rt_syscall, .-__rt_syscall

	.section .note.GNU-stack, "", @progbits
