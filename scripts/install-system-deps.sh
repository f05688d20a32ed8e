#!/usr/bin/env bash
# Debian packages that protocolscan uses besides Python packages:
#   tesseract-ocr, tesseract-ocr-nld  OCR of scanned pages (Dutch)
#   libreoffice-writer-nogui          DOC, ODT and RTF protocols
#   poppler-utils                     pdftoppm/pdftotext, used by developers to look at PDFs
#   fonts-dejavu-core                 a Unicode font for rendering the test corpus to PDF
#   chromium                          the real browser of the web page test (tests/test_web_browser.py)
# Installs only what is missing; needs root (or sudo) and apt-get.
set -euo pipefail
packages=(tesseract-ocr tesseract-ocr-nld libreoffice-writer-nogui poppler-utils fonts-dejavu-core chromium)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "apt-get not found: install ${missing[*]} by hand" >&2
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
