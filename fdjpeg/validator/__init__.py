"""The validator behind ``fdjpeg check`` / ``fdjpeg info`` (spec/hardware-profile.md): its own marker
walker, the hardware profile judged on files, and the reports. Imports only from base/."""
