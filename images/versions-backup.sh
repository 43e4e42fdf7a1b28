# Versions and image names of the backup and restore drills' images: Velero,
# its AWS (S3) plugin, and the S3 store. The names are those upstream
# publishes under, so a machine with registry access pulls them and one code
# path serves both. Kept apart from versions.sh, whose every line is an input
# of the kind node image: a Velero bump rebuilds only these.
VELERO_VERSION=v1.18.3              # the module proxy lists only v1.14.0 and v1.18.3
VELERO_AWS_PLUGIN_VERSION=v1.14.3   # its go.mod requires velero v1.18.1
VERSITYGW_VERSION=v1.8.0
VELERO_IMAGE=velero/velero:${VELERO_VERSION}
VELERO_AWS_PLUGIN_IMAGE=velero/velero-plugin-for-aws:${VELERO_AWS_PLUGIN_VERSION}
VERSITYGW_IMAGE=versity/versitygw:${VERSITYGW_VERSION}   # also ghcr.io/versity/versitygw
