# hupd's A/B boot for U-Boot (the "uboot-env" flavour): the settings in a binary redundant environment,
# uboot.env on the FAT boot partition, two copies of 0x4000 bytes (the layout hupd's fw_env.config describes:
# "uboot.env 0x0 0x4000" and "uboot.env 0x4000 0x4000"). Build: bootloader/build.sh; documentation:
# docs/bootloader-integration.md.
#
# Each copy: CRC32 of bytes 5..0x3fff, a flags byte (the newer copy has the higher one, 0 beats 255), then
# name=value pairs. env import -c wants the CRC right before the data, so a copy is rearranged in scratch memory
# before it is imported; the newer valid copy wins, the other is the fallback. With no valid copy the defaults
# apply (root A, no trial) and nothing is saved.
#
# Variables: resin_root_part (hex), upgrade_available, bootcount (hex), os_bc_lim (decimal, default 3),
# os_bc_skip. During a trial each boot adds one to bootcount and saves the environment into the other copy with
# the flags one higher, as saveenv does for a redundant environment: saveenv itself cannot be used, the
# environment U-Boot keeps for itself lives elsewhere (flash) or nowhere. The whole file is written back; the
# current copy is rewritten with the bytes it already holds. Only the variables above are imported and saved.
# Past the limit the other root boots (in RAM only). The limit check compares 0x${bootcount}, as the count is hex.
#
# Root A is partition 2, root B partition 3 of the boot disk; /boot/vmlinuz and /boot/initrd.img on the chosen
# ext4 root, root=PARTUUID=<its GPT UUID>. hupd_devtype, hupd_devnum, hupd_bootpart as in boot.cmd.

test -n "${hupd_devtype}" || setenv hupd_devtype "${devtype}"
test -n "${hupd_devnum}" || setenv hupd_devnum "${devnum}"
test -n "${hupd_bootpart}" || setenv hupd_bootpart "${distro_bootpart}"
test -n "${hupd_bootpart}" || setenv hupd_bootpart 1
setenv hupd_boot "${hupd_devtype} ${hupd_devnum}:${hupd_bootpart}"
setenv hupd_vars "resin_root_part upgrade_available bootcount os_bc_lim os_bc_skip"

setenv hupd_c0 "${kernel_addr_r}"
setexpr hupd_c1 ${hupd_c0} + 0x4000
setexpr hupd_scratch ${hupd_c0} + 0x10000
setexpr hupd_scratch_crc ${hupd_scratch} + 1
setexpr hupd_scratch_data ${hupd_scratch} + 5
setexpr hupd_scratch_flags ${hupd_scratch} + 4

env delete -f ${hupd_vars}
setenv hupd_loaded none
if fatload ${hupd_boot} ${hupd_c0} uboot.env 0x8000; then
    setexpr hupd_a ${hupd_c0} + 4
    setexpr.b hupd_f0 *${hupd_a}
    setexpr hupd_a ${hupd_c1} + 4
    setexpr.b hupd_f1 *${hupd_a}
    setenv hupd_first 0
    setenv hupd_second 1
    if test x${hupd_f0} = xff && test x${hupd_f1} = x0; then
        setenv hupd_first 1
        setenv hupd_second 0
    elif test x${hupd_f1} = xff && test x${hupd_f0} = x0; then
        true
    elif test 0x${hupd_f1} -gt 0x${hupd_f0}; then
        setenv hupd_first 1
        setenv hupd_second 0
    fi
    for hupd_copy in ${hupd_first} ${hupd_second}; do
        if test ${hupd_loaded} = none; then
            setexpr hupd_at ${hupd_copy} * 0x4000
            setexpr hupd_at ${hupd_at} + ${hupd_c0}
            setexpr hupd_a ${hupd_at} + 5
            cp.b ${hupd_at} ${hupd_scratch_crc} 4
            cp.b ${hupd_a} ${hupd_scratch_data} 0x3ffb
            if env import -c ${hupd_scratch_crc} 0x3fff ${hupd_vars}; then
                setenv hupd_loaded ${hupd_copy}
                setexpr hupd_a ${hupd_at} + 4
                setexpr.b hupd_flags *${hupd_a}
            fi
        fi
    done
fi

if test ${hupd_loaded} != none; then
    env exists bootcount || setenv bootcount 0
    if test x${os_bc_skip} = x0 || test x${os_bc_skip} = x; then
        if test x${upgrade_available} = x1; then
            setexpr bootcount ${bootcount} + 1
            if test x${hupd_flags} = xff; then
                setenv hupd_flags 0
            else
                setexpr hupd_flags ${hupd_flags} + 1
            fi
            if test ${hupd_loaded} = 0; then
                setenv hupd_at ${hupd_c1}
            else
                setenv hupd_at ${hupd_c0}
            fi
            env export -c -s 0x3fff ${hupd_scratch_crc} ${hupd_vars}
            cp.b ${hupd_scratch_crc} ${hupd_scratch} 4
            mw.b ${hupd_scratch_flags} ${hupd_flags}
            cp.b ${hupd_scratch} ${hupd_at} 0x4000
            fatwrite ${hupd_boot} ${hupd_c0} uboot.env 0x8000
        fi
    fi
fi
env exists resin_root_part || setenv resin_root_part 2
env exists upgrade_available || setenv upgrade_available 0
env exists os_bc_lim || setenv os_bc_lim 3
env exists bootcount || setenv bootcount 0

if test 0x${bootcount} -gt ${os_bc_lim}; then
    if test x${resin_root_part} = x2; then
        setenv resin_root_part 3
    else
        setenv resin_root_part 2
    fi
fi
env delete -f hupd_partuuid
part uuid ${hupd_devtype} ${hupd_devnum}:${resin_root_part} hupd_partuuid
if test -z "${hupd_partuuid}"; then
    setenv resin_root_part 2
    part uuid ${hupd_devtype} ${hupd_devnum}:${resin_root_part} hupd_partuuid
fi

echo "hupd-boot: root=${resin_root_part} bootcount=${bootcount} upgrade_available=${upgrade_available}"

setenv hupd_root "${hupd_devtype} ${hupd_devnum}:${resin_root_part}"
if load ${hupd_root} ${ramdisk_addr_r} /boot/initrd.img; then
    setenv hupd_initrd "${ramdisk_addr_r}:${filesize}"
    if load ${hupd_root} ${kernel_addr_r} /boot/vmlinuz; then
        setenv bootargs "root=PARTUUID=${hupd_partuuid} ro rootwait ${hupd_cmdline}"
        booti ${kernel_addr_r} ${hupd_initrd} ${fdtcontroladdr}
    fi
fi
echo "hupd-boot: cannot load the kernel from ${hupd_root}; resetting"
reset
