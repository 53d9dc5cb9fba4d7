# hupd's A/B boot for U-Boot (the "uboot" flavour), balenaOS's files on the FAT boot partition.
# Build: bootloader/build.sh (mkimage -T script) makes boot.scr; documentation: docs/bootloader-integration.md.
#
# Files, each imported with env import -t over the defaults below:
#   resinOS_uEnv.txt  resin_root_part (hex partition number), upgrade_available (1 while a new OS is on trial)
#   extra_uEnv.txt    the user's; may set os_bc_lim (trial boots allowed, decimal, default 3)
#   bootcount.env     bootcount (hex, as setexpr writes it); missing means 0
# During a trial every boot adds one and saves bootcount.env; past the limit the other root boots (in RAM only:
# hupd's rollback-altboot rewrites the files once the old OS is up).
# The count is hex and test -gt reads 0x-prefixed numbers as hex, so the check compares 0x${bootcount}:
# a plain ${bootcount} past 9 ("a") would read as 0 and the rollback would never come.
#
# Root A is partition 2, root B partition 3 of the boot disk. The kernel is /boot/vmlinuz and the initrd
# /boot/initrd.img on the chosen ext4 root, booted with root=PARTUUID=<its GPT UUID>. Set hupd_devtype,
# hupd_devnum and hupd_bootpart before this script when distro boot does not (devtype, devnum, distro_bootpart).

test -n "${hupd_devtype}" || setenv hupd_devtype "${devtype}"
test -n "${hupd_devnum}" || setenv hupd_devnum "${devnum}"
test -n "${hupd_bootpart}" || setenv hupd_bootpart "${distro_bootpart}"
test -n "${hupd_bootpart}" || setenv hupd_bootpart 1
setenv hupd_boot "${hupd_devtype} ${hupd_devnum}:${hupd_bootpart}"
setenv hupd_buf "${kernel_addr_r}"

setenv resin_root_part 2
setenv upgrade_available 0
setenv os_bc_lim 3
setenv os_bc_skip 0
env delete -f bootcount
if fatload ${hupd_boot} ${hupd_buf} resinOS_uEnv.txt; then
    env import -t ${hupd_buf} ${filesize}
fi
if fatload ${hupd_boot} ${hupd_buf} extra_uEnv.txt; then
    env import -t ${hupd_buf} ${filesize}
fi
if fatload ${hupd_boot} ${hupd_buf} bootcount.env; then
    env import -t ${hupd_buf} ${filesize}
else
    setenv bootcount 0
fi
env exists bootcount || setenv bootcount 0

if test x${os_bc_skip} = x0 && test x${upgrade_available} = x1; then
    setexpr bootcount ${bootcount} + 1
    env export -t ${hupd_buf} bootcount
    fatwrite ${hupd_boot} ${hupd_buf} bootcount.env ${filesize}
fi

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
